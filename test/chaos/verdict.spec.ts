import type { ChaosEntry } from './scenarios';
import { RECOVERY_BOUND_S, runProblems, scenarioProblems, selectScenarios } from './verdict';

/** A scenario result that met every goal (broker-restart of the README's latest run). */
function passing(overrides: Partial<ChaosEntry> = {}): ChaosEntry {
  return {
    scenario: 'broker-restart',
    requests: 1337,
    http_5xx: 0,
    events_expected: 1331,
    events_in_influx_worker: 1331,
    events_in_influx_telegraf: 1331,
    lost: 0,
    duplicates: 0,
    recovered_s: 8.7,
    balancer: 'readiness',
    no_ready_gateway: 0,
    http_503: 0,
    http_401: 0,
    http_other_4xx: 0,
    dropped_connections: 0,
    writes_ok: 1331,
    partial_writes: 0,
    writes_ok_after_s: 0.4,
    drained_after_s: 8.7,
    events_unconfirmed: 0,
    fault_s: 21.3,
    notes: 'rabbitmqctl stop_app, 20 s, start_app',
    ...overrides,
  };
}

describe('chaos verdict', () => {
  it('passes a scenario that met every goal, 503s and a recovery at the bound included', () => {
    expect(scenarioProblems(passing())).toEqual([]);
    expect(
      scenarioProblems(
        passing({
          scenario: 'mongo-outage',
          http_5xx: 25,
          http_503: 15,
          no_ready_gateway: 10,
          recovered_s: RECOVERY_BOUND_S,
        }),
      ),
    ).toEqual([]);
  });

  it('fails a broker restart with any 5xx: the gateways must stay ready and serve', () => {
    expect(scenarioProblems(passing({ http_5xx: 3, no_ready_gateway: 3 }))).toEqual([
      'answered 3 5xx',
    ]);
  });

  it.each<[string, Partial<ChaosEntry>, string]>([
    ['loses an event', { lost: 1, events_in_influx_worker: 1330 }, 'lost 1 event(s)'],
    ['duplicates an event', { duplicates: 2 }, 'duplicated 2 event(s)'],
    [
      'answers a 500 while MongoDB is away',
      { scenario: 'mongo-outage', http_5xx: 4, http_503: 3 },
      'answered 1 5xx other than 503',
    ],
    [
      'was not routed by readiness',
      { balancer: 'round-robin' as 'readiness' },
      'requests were not routed by readiness',
    ],
    [
      'drops a request it accepted',
      { dropped_connections: 1 },
      'dropped 1 request(s) without an answer',
    ],
    ['misses its recovery bound', { recovered_s: 15.1 }, 'recovered in 15.1 s (bound 15 s)'],
    ['never recovers', { recovered_s: null }, 'never recovered'],
  ])('fails a scenario that %s', (_, overrides, problem) => {
    expect(scenarioProblems(passing(overrides))).toEqual([problem]);
  });

  it('fails a scenario that could not run to its end, with its reason only', () => {
    const failed = passing({ recovered_s: null, notes: 'FAILED: worker did not start' });
    expect(scenarioProblems(failed)).toEqual([
      'did not run to its end (FAILED: worker did not start)',
    ]);
  });

  it('fails a run with one broken scenario among good ones, naming it (the self-test)', () => {
    const run = [
      passing(),
      passing({ scenario: 'worker-kill', lost: 3, duplicates: 1 }),
      passing({ scenario: 'poison' }),
    ];
    expect(runProblems(run)).toEqual([
      'worker-kill: lost 3 event(s)',
      'worker-kill: duplicated 1 event(s)',
    ]);
    expect(runProblems([passing(), passing({ scenario: 'poison' })])).toEqual([]);
  });
});

describe('CHAOS_SCENARIOS', () => {
  const all = [{ name: 'broker-restart' }, { name: 'worker-kill' }, { name: 'poison' }];

  it('selects every scenario when unset or empty', () => {
    expect(selectScenarios(all, undefined)).toEqual(all);
    expect(selectScenarios(all, ' , ')).toEqual(all);
  });

  it('selects the named scenarios in their defined order', () => {
    expect(selectScenarios(all, 'poison, broker-restart')).toEqual([all[0], all[2]]);
  });

  it('refuses names that match no scenario, so a typo cannot pass a run that tests nothing', () => {
    expect(() => selectScenarios(all, 'posion')).toThrow(
      'CHAOS_SCENARIOS names no such scenario: posion (known: broker-restart, worker-kill, poison)',
    );
    expect(() => selectScenarios(all, 'poison,workerkill')).toThrow(/no such scenario: workerkill/);
  });
});

import '../styles/taskit.css';
import '../styles/base.css';
import '../styles/analytics.css';
import { api, ApiError } from '../api';
import { showNotice } from '../notices';
import { redirectIfSignedOut, startSignedInPage } from '../session';
import { SeriesChart } from './chart';
import {
  completionRate,
  formatRate,
  isRange,
  seriesColumns,
  type Range,
  type Summary,
  type Totals,
} from './summary';

const TOTAL_KEYS: (keyof Totals)[] = ['created', 'completed', 'uncompleted', 'updated', 'deleted'];
const RANGE_LABEL: Record<Range, string> = {
  '1h': 'the last hour',
  '24h': 'the last 24 hours',
  '7d': 'the last 7 days',
  '30d': 'the last 30 days',
};

const page = document.querySelector<HTMLElement>('main.analytics')!;
const status = page.querySelector<HTMLElement>('.analytics-status')!;
const unavailable = page.querySelector<HTMLElement>('.unavailable')!;
const retry = unavailable.querySelector<HTMLButtonElement>('.retry')!;
const body = page.querySelector<HTMLElement>('.analytics-body')!;
const chartEmpty = page.querySelector<HTMLElement>('.chart-empty')!;
const tableBody = page.querySelector<HTMLTableSectionElement>('.series-table tbody')!;
const radios = [...page.querySelectorAll<HTMLInputElement>('input[name="range"]')];
const chart = new SeriesChart(page.querySelector<HTMLElement>('.chart')!);

let loading = 0;

function selectedRange(): Range {
  const value = radios.find((radio) => radio.checked)?.value ?? null;
  return isRange(value) ? value : '24h';
}

function bucketLabel(iso: string, range: Range): string {
  const date = new Date(iso);
  return range === '24h' || range === '1h'
    ? date.toLocaleString(undefined, { weekday: 'short', hour: '2-digit', minute: '2-digit' })
    : date.toLocaleDateString(undefined, { month: 'short', day: 'numeric', hour: '2-digit' });
}

function showSummary(summary: Summary, range: Range): void {
  for (const key of TOTAL_KEYS) {
    const value = page.querySelector<HTMLElement>(`[data-total="${key}"]`);
    if (value) value.textContent = String(summary.totals[key] ?? 0);
  }
  page.querySelector<HTMLElement>('[data-total="rate"]')!.textContent = formatRate(
    completionRate(summary.totals),
  );

  const columns = seriesColumns(summary.series);
  const anything = columns[1].some((n) => n > 0) || columns[2].some((n) => n > 0);
  chartEmpty.hidden = anything;
  if (columns[0].length > 0) chart.show(columns);
  else chart.clear();

  tableBody.replaceChildren(
    ...columns[0].map((seconds, index) => {
      const row = document.createElement('tr');
      const when = document.createElement('th');
      when.scope = 'row';
      when.textContent = bucketLabel(new Date(seconds * 1000).toISOString(), range);
      const created = document.createElement('td');
      created.textContent = String(columns[1][index]);
      const completed = document.createElement('td');
      completed.textContent = String(columns[2][index]);
      row.append(when, created, completed);
      return row;
    }),
  );
  status.textContent = `Showing ${RANGE_LABEL[range]}.`;
}

/** Fetches and shows the summary; a 503 shows the "temporarily unavailable" state only. */
async function load(): Promise<void> {
  const range = selectedRange();
  const ticket = ++loading;
  page.setAttribute('aria-busy', 'true');
  page.dataset.state = 'loading';
  status.textContent = `Loading ${RANGE_LABEL[range]}…`;
  try {
    const summary = await api<Summary>('GET', `/api/analytics/summary?range=${range}`);
    if (ticket !== loading) return; // a newer range was picked meanwhile
    // "Try again" worked and disappears: keep the keyboard focus on the page.
    if (unavailable.contains(document.activeElement)) page.focus();
    unavailable.hidden = true;
    body.hidden = false;
    showSummary(summary, range);
    page.dataset.state = 'ready';
  } catch (error) {
    if (ticket !== loading) return;
    redirectIfSignedOut(error);
    if (error instanceof ApiError && (error.status === 503 || error.status === 0)) {
      body.hidden = true;
      unavailable.hidden = false;
      status.textContent = '';
      page.dataset.state = 'unavailable';
    } else {
      status.textContent = '';
      page.dataset.state = 'failed';
      showNotice(`The analytics could not be loaded: ${(error as Error).message}.`, 'error');
    }
  } finally {
    if (ticket === loading) page.removeAttribute('aria-busy');
  }
}

async function main(): Promise<void> {
  const fromUrl = new URLSearchParams(location.search).get('range');
  if (isRange(fromUrl)) {
    for (const radio of radios) radio.checked = radio.value === fromUrl;
  }
  for (const radio of radios) {
    radio.addEventListener('change', () => {
      const url = new URL(location.href);
      url.searchParams.set('range', selectedRange());
      history.replaceState(null, '', url);
      void load();
    });
  }
  retry.addEventListener('click', () => void load());
  await startSignedInPage();
  await load();
}

main().catch((error: unknown) => {
  showNotice(`Taskit could not start: ${(error as Error).message}. Reload to try again.`, 'error');
});

import { findForbiddenKey, isForbiddenKey } from './forbidden-keys';

describe('findForbiddenKey', () => {
  it.each([
    [{ title: { $gt: '' } }, 'title.$gt'],
    [JSON.parse('{"__proto__": {"admin": true}}'), '__proto__'],
    [{ constructor: { prototype: {} } }, 'constructor'],
    [{ a: [{ ok: 1 }, { $where: 'x' }] }, 'a.1.$where'],
    [{ 'a.b': 1 }, 'a.b'],
    [{ $set: 1 }, '$set'],
  ])('finds the hostile key in %j', (input, expected) => {
    expect(findForbiddenKey(input)).toBe(expected);
  });

  it.each([[{ title: 'a $gt b', done: true }], [{}], [null], ['$gt'], [42], [[1, 'x']]])(
    'accepts %j',
    (input) => {
      expect(findForbiddenKey(input)).toBeUndefined();
    },
  );

  it('treats absurd nesting as hostile instead of recursing without bound', () => {
    let deep: Record<string, unknown> = {};
    const root = deep;
    for (let i = 0; i < 100; i += 1) {
      const next: Record<string, unknown> = {};
      deep.n = next;
      deep = next;
    }
    expect(findForbiddenKey(root)).toBeDefined();
  });

  it('allows ordinary keys', () => {
    expect(isForbiddenKey('title')).toBe(false);
    expect(isForbiddenKey('$gt')).toBe(true);
    expect(isForbiddenKey('prototype')).toBe(true);
  });
});

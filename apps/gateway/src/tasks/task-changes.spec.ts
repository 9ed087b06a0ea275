import { planPatch } from './task-changes';

describe('planPatch', () => {
  const current = { title: 'Buy milk', done: false };

  it.each([
    [{}, {}, []],
    [{ title: 'Buy milk' }, {}, []],
    [{ done: false }, {}, []],
    [{ title: 'Buy bread' }, { title: 'Buy bread' }, ['task.updated']],
    [{ done: true }, { done: true }, ['task.completed']],
    [
      { title: 'Buy bread', done: true },
      { title: 'Buy bread', done: true },
      ['task.updated', 'task.completed'],
    ],
    [{ title: 'Buy milk', done: true }, { done: true }, ['task.completed']],
  ])('patch %j sets %j and records %j', (patch, set, events) => {
    expect(planPatch(current, patch)).toEqual({ set, events });
  });

  it('records task.uncompleted when a done task is reopened', () => {
    expect(planPatch({ title: 'x', done: true }, { done: false })).toEqual({
      set: { done: false },
      events: ['task.uncompleted'],
    });
  });
});

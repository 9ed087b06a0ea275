// The TodoMVC template's stylesheets, as published on npm, then Taskit's own.
import 'todomvc-common/base.css';
import 'todomvc-app-css/index.css';
import '../styles/taskit.css';
import '../styles/tasks.css';
import { ApiError } from '../api';
import { showNotice } from '../notices';
import { redirectIfSignedOut, startSignedInPage } from '../session';
import { TodoStore, type Todo } from './store';
import { TodoView } from './view';

function explain(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 0) return 'the server could not be reached';
    return error.message;
  }
  return String(error);
}

async function main(): Promise<void> {
  const view = new TodoView(document);
  view.focusNewTodo();
  // The skip link targets Taskit's <main>; following it would also change the route (#/…).
  document.querySelector('.skip-link')?.addEventListener('click', (event) => {
    event.preventDefault();
    view.focusNewTodo();
  });
  await startSignedInPage();
  const store: TodoStore = new TodoStore((what: string, error: unknown) => {
    redirectIfSignedOut(error);
    showNotice(`Could not ${what}: ${explain(error)}. The change was undone.`, 'error');
  });
  view.bind(store);
  try {
    await store.load();
  } catch (error) {
    redirectIfSignedOut(error);
    showNotice(`Your todos could not be loaded: ${explain(error)}. Reload to try again.`, 'error');
  }
  view.focusNewTodo();
  // For the browser tests: lets them wait until the server has every change.
  (
    window as unknown as { taskit?: { settled(): Promise<void>; todos(): readonly Todo[] } }
  ).taskit = { settled: () => store.settled(), todos: () => store.all };
}

main().catch((error: unknown) => {
  showNotice(`Taskit could not start: ${explain(error)}. Reload to try again.`, 'error');
});

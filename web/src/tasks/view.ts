/**
 * The TodoMVC view (tastejs/todomvc app-spec.md): the template's markup and classes, rendered
 * from the store with DOM calls (never HTML strings). Template elements get no attributes of
 * Taskit's beyond aria-* (screen-reader names) and the tabindex that makes a title editable
 * from the keyboard. List items are keyed, so an item being edited keeps its input while other
 * todos change around it.
 */
import type { Todo, TodoStore } from './store';

type Filter = 'all' | 'active' | 'completed';

const ENTER_KEY = 'Enter';
const ESCAPE_KEY = 'Escape';
/** The server's limit (docs/api.md, HTTP API); longer input is cut as a maxlength would. */
const MAX_TITLE_LENGTH = 500;

function capLength(input: HTMLInputElement): void {
  if (input.value.length > MAX_TITLE_LENGTH) {
    input.value = input.value.slice(0, MAX_TITLE_LENGTH);
  }
}

interface ItemElements {
  li: HTMLLIElement;
  toggle: HTMLInputElement;
  label: HTMLLabelElement;
  destroy: HTMLButtonElement;
  edit: HTMLInputElement;
}

function routeFilter(hash: string): Filter {
  const route = hash.replace(/^#!?/, '');
  if (route === '/active') return 'active';
  if (route === '/completed') return 'completed';
  return 'all';
}

function required<T extends Element>(root: ParentNode, selector: string): T {
  const element = root.querySelector<T>(selector);
  if (!element) throw new Error(`missing ${selector}`);
  return element;
}

export class TodoView {
  private readonly newTodo: HTMLInputElement;
  private readonly main: HTMLElement;
  private readonly toggleAll: HTMLInputElement;
  private readonly list: HTMLUListElement;
  private readonly footer: HTMLElement;
  private readonly count: HTMLElement;
  private readonly clearCompleted: HTMLButtonElement;
  private readonly filterLinks: HTMLAnchorElement[];
  private readonly items = new Map<number, ItemElements>();
  private readonly keys = new WeakMap<Element, number>();
  private store?: TodoStore;
  private editingKey: number | null = null;

  constructor(root: ParentNode) {
    this.newTodo = required(root, '.new-todo');
    this.main = required(root, '.main');
    this.toggleAll = required(root, '.toggle-all');
    this.list = required(root, '.todo-list');
    this.footer = required(root, '.footer');
    this.count = required(root, '.todo-count');
    this.clearCompleted = required(root, '.clear-completed');
    this.filterLinks = [...root.querySelectorAll<HTMLAnchorElement>('.filters a')];
  }

  focusNewTodo(): void {
    this.newTodo.focus();
  }

  bind(store: TodoStore): void {
    this.store = store;
    store.subscribe(() => this.render());

    this.newTodo.addEventListener('keydown', (event) => {
      if (event.key !== ENTER_KEY || event.isComposing) return;
      const title = this.newTodo.value.trim();
      if (!title) return;
      store.add(title);
      this.newTodo.value = '';
    });
    this.newTodo.addEventListener('input', () => capLength(this.newTodo));
    this.toggleAll.addEventListener('change', () => store.toggleAll(this.toggleAll.checked));
    this.clearCompleted.addEventListener('click', () => {
      store.clearCompleted();
      this.newTodo.focus(); // the button just hid itself; keep the focus somewhere useful
    });
    window.addEventListener('hashchange', () => this.render());

    this.list.addEventListener('change', (event) => {
      const target = event.target as HTMLElement;
      const todo = this.todoOf(target);
      if (todo && target.classList.contains('toggle')) {
        store.toggle(todo, (target as HTMLInputElement).checked);
      }
    });
    this.list.addEventListener('click', (event) => {
      const target = event.target as HTMLElement;
      const todo = this.todoOf(target);
      if (todo && target.classList.contains('destroy')) this.destroy(todo);
    });
    this.list.addEventListener('dblclick', (event) => {
      const target = event.target as HTMLElement;
      const todo = this.todoOf(target);
      if (todo && target.tagName === 'LABEL') this.startEditing(todo);
    });
    this.list.addEventListener('keydown', (event) => {
      const target = event.target as HTMLElement;
      const todo = this.todoOf(target);
      if (!todo) return;
      if (target.tagName === 'LABEL' && (event.key === ENTER_KEY || event.key === 'F2')) {
        event.preventDefault();
        this.startEditing(todo);
      } else if (target.classList.contains('edit')) {
        if (event.key === ENTER_KEY && !event.isComposing) {
          event.preventDefault();
          this.finishEditing(todo, target as HTMLInputElement, true);
        } else if (event.key === ESCAPE_KEY) {
          event.preventDefault();
          this.cancelEditing(todo, target as HTMLInputElement);
        }
      }
    });
    this.list.addEventListener('input', (event) => {
      const target = event.target as HTMLElement;
      if (target.classList.contains('edit')) capLength(target as HTMLInputElement);
    });
    this.list.addEventListener('focusout', (event) => {
      const target = event.target as HTMLElement;
      const todo = this.todoOf(target);
      if (todo && target.classList.contains('edit')) {
        this.finishEditing(todo, target as HTMLInputElement, false);
      }
    });
    this.render();
  }

  private todoOf(element: HTMLElement): Todo | undefined {
    const li = element.closest('.todo-list > li');
    const key = li ? this.keys.get(li) : undefined;
    return key === undefined ? undefined : this.store?.byKey(key);
  }

  private destroy(todo: Todo): void {
    const elements = this.items.get(todo.key);
    const hadFocus = elements?.li.contains(document.activeElement) ?? false;
    this.store?.destroy(todo);
    if (hadFocus) this.newTodo.focus();
  }

  private startEditing(todo: Todo): void {
    this.editingKey = todo.key;
    this.render();
    const elements = this.items.get(todo.key);
    if (!elements) return;
    elements.edit.value = todo.title;
    elements.edit.focus();
    elements.edit.setSelectionRange(todo.title.length, todo.title.length);
  }

  /** Enter or blur: saves the trimmed title; an empty title destroys the todo. */
  private finishEditing(todo: Todo, input: HTMLInputElement, byKeyboard: boolean): void {
    if (this.editingKey !== todo.key) return; // already finished (Enter, then the blur)
    this.editingKey = null;
    const title = input.value.trim();
    if (!title) {
      this.destroy(todo);
      if (byKeyboard) this.newTodo.focus();
      return;
    }
    this.store?.rename(todo, title);
    this.render();
    if (byKeyboard) this.items.get(todo.key)?.label.focus();
  }

  /** Escape: leaves editing and discards the changes. */
  private cancelEditing(todo: Todo, input: HTMLInputElement): void {
    this.editingKey = null;
    input.value = todo.title;
    this.render();
    this.items.get(todo.key)?.label.focus();
  }

  private createItem(todo: Todo): ItemElements {
    const li = document.createElement('li');
    this.keys.set(li, todo.key);
    const view = document.createElement('div');
    view.className = 'view';
    const toggle = document.createElement('input');
    toggle.className = 'toggle';
    toggle.type = 'checkbox';
    const label = document.createElement('label');
    label.tabIndex = 0;
    const destroy = document.createElement('button');
    destroy.className = 'destroy';
    const edit = document.createElement('input');
    edit.className = 'edit';
    view.append(toggle, label, destroy);
    li.append(view, edit);
    return { li, toggle, label, destroy, edit };
  }

  private updateItem(elements: ItemElements, todo: Todo): void {
    const { li, toggle, label, destroy, edit } = elements;
    const editing = this.editingKey === todo.key;
    li.classList.toggle('completed', todo.completed);
    li.classList.toggle('editing', editing);
    li.setAttribute('aria-busy', String(todo.id === null));
    toggle.checked = todo.completed;
    toggle.setAttribute('aria-label', `Completed: ${todo.title}`);
    if (label.textContent !== todo.title) label.textContent = todo.title;
    destroy.setAttribute('aria-label', `Delete: ${todo.title}`);
    edit.setAttribute('aria-label', `Edit: ${todo.title}`);
    if (!editing) edit.value = todo.title;
  }

  render(): void {
    const store = this.store;
    if (!store) return;
    const todos = store.all;
    const filter = routeFilter(location.hash);
    const visible = todos.filter((todo) =>
      filter === 'all' ? true : filter === 'active' ? !todo.completed : todo.completed,
    );

    const empty = todos.length === 0;
    this.main.hidden = empty;
    this.footer.hidden = empty;
    this.toggleAll.checked = !empty && store.activeCount === 0;

    const active = store.activeCount;
    const strong = document.createElement('strong');
    strong.textContent = String(active);
    this.count.replaceChildren(strong, ` ${active === 1 ? 'item' : 'items'} left`);
    this.clearCompleted.hidden = store.completedCount === 0;

    for (const link of this.filterLinks) {
      const selected = routeFilter(link.hash) === filter;
      link.classList.toggle('selected', selected);
      if (selected) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    }

    const shown = new Set(visible.map((todo) => todo.key));
    for (const [key, elements] of this.items) {
      if (!shown.has(key)) {
        elements.li.remove();
        this.items.delete(key);
        if (this.editingKey === key) this.editingKey = null;
      }
    }
    let previous: HTMLLIElement | null = null;
    for (const todo of visible) {
      let elements = this.items.get(todo.key);
      if (!elements) {
        elements = this.createItem(todo);
        this.items.set(todo.key, elements);
      }
      this.updateItem(elements, todo);
      const expected: ChildNode | null = previous ? previous.nextSibling : this.list.firstChild;
      if (expected !== elements.li) this.list.insertBefore(elements.li, expected);
      previous = elements.li;
    }
  }
}

import type { Page } from 'playwright-core';
import { TODOMVC_TEMPLATE_APP } from './todomvc-template';

/** One element of `.todoapp` as a tool written for TodoMVC apps sees it. */
export interface Shape {
  tag: string;
  classes: string[];
  /** Every attribute but class, value, checked and Taskit's screen-reader ones (aria-*). */
  attributes: string[];
  checked?: boolean;
  text?: string;
  children: Shape[];
}

export interface ShapeOptions {
  /** The markup as served, before any todo: `hidden` is its default state, the list empty. */
  asServed?: boolean;
}

/**
 * In the page: the shape of the first `.todoapp` in `html` (a whole page or the template's
 * section), or of the live page when `html` is null. Item labels may carry tabindex (keyboard
 * editing); the counter's text is left out (the template's sample says "0 item left").
 */
const SHAPE_SOURCE = `(html, options) => {
  const root = html === null ? document : new DOMParser().parseFromString(html, 'text/html');
  const shape = (element) => {
    const itemLabel = element.matches('.todo-list li .view > label');
    const attributes = [...element.attributes]
      .map((attribute) => attribute.name)
      .filter((name) => !['class', 'value', 'checked'].includes(name))
      .filter((name) => !name.startsWith('aria-'))
      .filter((name) => !(itemLabel && name === 'tabindex'))
      .filter((name) => !(options.asServed && name === 'hidden'))
      .map((name) => name + '=' + element.getAttribute(name))
      .sort();
    const result = {
      tag: element.tagName.toLowerCase(),
      classes: [...element.classList].sort(),
      attributes,
      children: [...element.children]
        .filter((child) => !(options.asServed && child.matches('.todo-list > li')))
        .map(shape),
    };
    if (element.matches('input[type=checkbox]')) result.checked = element.checked;
    const container = element.matches('.todo-list') || element.closest('.todo-count');
    if (element.children.length === 0 && !container) {
      result.text = element.textContent.replace(/\\s+/g, ' ').trim();
    }
    return result;
  };
  const app = root.querySelector('.todoapp');
  return app ? shape(app) : null;
}`;

/** The shape of `html`'s `.todoapp`, or of the live page's when `html` is null. */
export function pageShape(
  page: Page,
  html: string | null,
  options: ShapeOptions = {},
): Promise<Shape | null> {
  // Source text: the tests are compiled without the DOM library.
  return page.evaluate<Shape | null>(
    `(${SHAPE_SOURCE})(${JSON.stringify(html)}, ${JSON.stringify(options)})`,
  );
}

export function templateShape(page: Page, options: ShapeOptions = {}): Promise<Shape | null> {
  return pageShape(page, TODOMVC_TEMPLATE_APP, options);
}

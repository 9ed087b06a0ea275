/** The page's notice area: flash notices from the server and our own error messages. */

export type NoticeKind = 'info' | 'error';

function area(): HTMLElement {
  let element = document.querySelector<HTMLElement>('.notices');
  if (!element) {
    element = document.createElement('div');
    element.className = 'notices';
    element.setAttribute('aria-live', 'polite');
    document.body.prepend(element);
  }
  return element;
}

/** Information fades after this long; errors stay until they are dismissed. */
const INFO_LIFETIME_MS = 8_000;

/**
 * Shows a notice; errors are announced at once (role=alert) and stay until dismissed. The same
 * message again (e.g. "Could not reach the server" twice) is counted, not repeated.
 */
export function showNotice(text: string, kind: NoticeKind = 'info'): HTMLElement {
  const same = [...area().querySelectorAll<HTMLElement>(`.notice-${kind}`)].find(
    (notice) => notice.dataset.text === text,
  );
  if (same) {
    const times = Number(same.dataset.times ?? '1') + 1;
    same.dataset.times = String(times);
    same.querySelector('.notice-text')!.textContent = `${text} (×${times})`;
    return same;
  }
  const notice = document.createElement('div');
  notice.dataset.text = text;
  notice.className = `notice notice-${kind}`;
  notice.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  const message = document.createElement('p');
  message.className = 'notice-text';
  message.textContent = text;
  const dismiss = document.createElement('button');
  dismiss.type = 'button';
  dismiss.className = 'notice-dismiss';
  dismiss.setAttribute('aria-label', 'Dismiss notice');
  dismiss.textContent = '×';
  dismiss.addEventListener('click', () => notice.remove());
  notice.append(message, dismiss);
  area().append(notice);
  if (kind === 'info') setTimeout(() => notice.remove(), INFO_LIFETIME_MS);
  return notice;
}

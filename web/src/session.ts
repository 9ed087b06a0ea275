/**
 * The signed-in pages' common part: who is signed in (GET /api/auth/me, which also hands
 * out the CSRF token and the one-shot flash notices), the header with the email and
 * sign-out, and the redirect to /login when the session has gone.
 */
import { api, ApiError, setCsrfToken, type AuthResponse, type User } from './api';
import { showNotice } from './notices';

export function goToLogin(): never {
  const here = location.pathname === '/' ? '' : `?next=${encodeURIComponent(location.pathname)}`;
  location.assign(`/login${here}`);
  throw new Error('redirecting to /login');
}

async function signOut(button: HTMLButtonElement): Promise<void> {
  button.disabled = true;
  try {
    await api('POST', '/api/auth/logout');
  } catch (error) {
    // 401: the session was already gone; that is signed out too.
    if (!(error instanceof ApiError && error.status === 401)) {
      button.disabled = false;
      showNotice(`Could not sign out: ${(error as Error).message}.`, 'error');
      return;
    }
  }
  location.assign('/login');
}

/** Loads the session; without one, goes to /login (the server normally redirected already). */
export async function startSignedInPage(): Promise<User> {
  let me: AuthResponse;
  try {
    me = await api<AuthResponse>('GET', '/api/auth/me');
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) goToLogin();
    throw error;
  }
  setCsrfToken(me.csrfToken);
  for (const email of document.querySelectorAll<HTMLElement>('.user-email')) {
    email.textContent = me.user.email;
  }
  for (const button of document.querySelectorAll<HTMLButtonElement>('.sign-out')) {
    button.addEventListener('click', () => void signOut(button));
  }
  // Only what crosses a page change (signed in, a refusal…); a task change is its own feedback.
  for (const notice of me.notices ?? []) showNotice(notice);
  return me.user;
}

/** A refused call that means the session ended: back to /login. */
export function redirectIfSignedOut(error: unknown): void {
  if (error instanceof ApiError && error.status === 401) goToLogin();
}

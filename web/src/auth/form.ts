import '../styles/taskit.css';
import '../styles/base.css';
import '../styles/auth.css';
import { api, ApiError, nextPage, type AuthResponse } from '../api';
import { showNotice } from '../notices';

/** What a refused sign-in or sign-up means for the person at the keyboard. */
export type Explain = (error: ApiError) => string;

/**
 * Wires the sign-in or sign-up form: posts the JSON credentials, then opens the page the user
 * wanted. Errors appear under the form (role=alert) and focus returns to the first field.
 */
export function wireAuthForm(endpoint: string, explain: Explain): void {
  const form = document.querySelector<HTMLFormElement>('.auth-form')!;
  const email = form.querySelector<HTMLInputElement>('input[name="email"]')!;
  const password = form.querySelector<HTMLInputElement>('input[name="password"]')!;
  const error = form.querySelector<HTMLElement>('.form-error')!;
  const submit = form.querySelector<HTMLButtonElement>('button[type="submit"]')!;

  // One-shot flash notices of this (anonymous) session, e.g. "Signed out".
  api<{ notices?: string[] }>('GET', '/api/auth/notices')
    .then(({ notices }) => notices?.forEach((notice) => showNotice(notice)))
    .catch(() => undefined); // a courtesy: the form works without it

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    error.hidden = true;
    submit.disabled = true;
    form.setAttribute('aria-busy', 'true');
    api<AuthResponse>('POST', endpoint, { email: email.value.trim(), password: password.value })
      .then(() => location.assign(nextPage()))
      .catch((failure: unknown) => {
        error.textContent =
          failure instanceof ApiError ? explain(failure) : 'Something went wrong. Try again.';
        error.hidden = false;
        submit.disabled = false;
        form.removeAttribute('aria-busy');
        (failure instanceof ApiError && failure.status === 401 ? password : email).focus();
      });
  });
}

export function commonExplanation(error: ApiError): string {
  if (error.status === 0)
    return 'Taskit could not be reached. Check your connection and try again.';
  if (error.status === 429) return 'Too many attempts. Wait a minute, then try again.';
  if (error.status >= 500) return 'Taskit is having trouble right now. Try again in a moment.';
  return error.message;
}

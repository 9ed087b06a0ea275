/** The stored and compared form of an email address. */
export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

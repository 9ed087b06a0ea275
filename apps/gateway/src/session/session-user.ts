/** The logged-in user as stored in the session and handed to route handlers. */
export interface SessionUser {
  id: string;
  email: string;
}

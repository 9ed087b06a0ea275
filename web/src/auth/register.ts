import { commonExplanation, wireAuthForm } from './form';

wireAuthForm('/api/auth/register', (error) =>
  error.status === 409
    ? 'An account with this email already exists. Sign in instead.'
    : commonExplanation(error),
);

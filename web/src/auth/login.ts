import { commonExplanation, wireAuthForm } from './form';

wireAuthForm('/api/auth/login', (error) =>
  error.status === 401 ? 'Wrong email or password.' : commonExplanation(error),
);

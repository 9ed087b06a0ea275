import { ConfigModule } from '@nestjs/config';
import type { CommonEnvironment } from './common-environment.ts';

/**
 * Nest's ConfigService over settings already validated by main.ts (or a test): it serves
 * exactly these values and never falls back to process.env or an .env file.
 */
export function settingsModule(env: CommonEnvironment) {
  return ConfigModule.forRoot({
    isGlobal: true,
    ignoreEnvFile: true,
    skipProcessEnv: true,
    load: [() => ({ ...env })],
  });
}

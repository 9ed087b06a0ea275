import { CommonEnvironment, IsMongoUri, IsUrlWithScheme } from '@taskit/config';
import { IsInt, IsString, Matches, Max, Min, MinLength, ValidateIf } from 'class-validator';

/** Every setting of the gateway, validated at start-up (CONTRACT section 2). */
export class GatewayEnvironment extends CommonEnvironment {
  override PORT = 3000;

  @IsMongoUri()
  MONGODB_URI = 'mongodb://127.0.0.1:27017/taskit';

  @IsUrlWithScheme(['redis', 'rediss'])
  REDIS_URL = 'redis://127.0.0.1:6379';

  /** Prefix of every Redis key this gateway writes, so that stacks can share one Redis. */
  @IsString()
  @Matches(/^[A-Za-z0-9:_-]{1,64}$/, { message: 'must be 1-64 letters, digits, ":", "_" or "-"' })
  REDIS_PREFIX = 'taskit:';

  /** Signs the session cookie. Required in production; a fixed development value otherwise. */
  @ValidateIf((env: GatewayEnvironment) => env.isProduction || env.SESSION_SECRET !== undefined)
  @IsString()
  @MinLength(32, { message: 'must be at least 32 characters' })
  SESSION_SECRET?: string;

  /** How long the gateway waits for the analytics RPC before answering 503. */
  @IsInt()
  @Min(100)
  @Max(30_000)
  ANALYTICS_RPC_TIMEOUT_MS = 2_000;

  get sessionSecret(): string {
    return this.SESSION_SECRET ?? 'taskit-development-session-secret-not-for-production';
  }
}

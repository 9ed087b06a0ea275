import { CommonEnvironment, IsUrlWithScheme } from '@taskit/config';
import { IsString, MinLength } from 'class-validator';

/** Every setting of the analytics service, validated at start-up (CONTRACT section 2). */
export class AnalyticsEnvironment extends CommonEnvironment {
  override PORT = 3001;

  @IsUrlWithScheme(['http', 'https'])
  INFLUX_URL = 'http://127.0.0.1:8086';

  /** InfluxDB 2 API token; InfluxDB 1.8 with auth off ignores it, with auth it is `user:password`. */
  @IsString()
  INFLUX_TOKEN = '';

  @IsString()
  @MinLength(1)
  INFLUX_ORG = 'taskit';

  /** `taskit` on InfluxDB 2; `taskit/autogen` (database/retention policy) on InfluxDB 1.8. */
  @IsString()
  @MinLength(1)
  INFLUX_BUCKET = 'taskit';
}

import { queryInfluxQl, rowsOf, targetOfBucket } from '@taskit/influx';
import type { DoctorSettings } from './settings';

/** Rows of an InfluxQL statement against the doctor's bucket (any InfluxDB generation). */
export async function influxRows(settings: DoctorSettings, query: string, ms = 4_000) {
  const target = targetOfBucket(settings.influxUrl, settings.influxToken, settings.influxBucket);
  return rowsOf(await queryInfluxQl(target, query, AbortSignal.timeout(ms)));
}

// First import of main.ts: the SDK must patch the modules before Nest requires them.
import { startTracing } from '@taskit/observability/tracing';

startTracing('taskit-analytics');

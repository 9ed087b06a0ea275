import { SetMetadata } from '@nestjs/common';

export const BULK_OPERATION = 'taskit:bulk-operation';

/**
 * Marks a route that changes every task of the user at once: besides the per-user and
 * per-client API limits it spends the tighter bulk budget (docs/limits.md).
 */
export const BulkOperation = () => SetMetadata(BULK_OPERATION, true);

import { ApiProperty } from '@nestjs/swagger';
import {
  SUMMARY_RANGES,
  type Summary,
  type SummaryBucket,
  type SummaryCounts,
  type SummaryRange,
} from '@taskit/contracts';

/** The OpenAPI side of the Summary (docs/api.md, "The Summary"); the contract is the interface. */
export class SummaryCountsView implements SummaryCounts {
  @ApiProperty()
  created!: number;

  @ApiProperty()
  completed!: number;

  @ApiProperty()
  uncompleted!: number;

  @ApiProperty()
  deleted!: number;

  @ApiProperty()
  updated!: number;
}

export class SummaryBucketView extends SummaryCountsView implements SummaryBucket {
  @ApiProperty({ format: 'date-time', description: 'Start of the bucket' })
  t!: string;
}

export class SummaryView implements Summary {
  @ApiProperty({ enum: SUMMARY_RANGES })
  range!: SummaryRange;

  @ApiProperty({ type: SummaryCountsView })
  totals!: SummaryCountsView;

  @ApiProperty({ type: [SummaryBucketView], description: 'Aligned buckets, oldest first' })
  series!: SummaryBucketView[];
}

import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsString, Length, ValidateBy, ValidateIf } from 'class-validator';

export const TITLE_MAX_LENGTH = 500;
/** Characters alone allow ~3.5 KB titles (emoji with variation selectors): bytes are bounded too. */
export const TITLE_MAX_BYTES = 2_000;
export const TASK_STATUSES = ['all', 'active', 'completed'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

/** Optional, but null is a wrong type (400), not "absent". */
const IsPresent = () => ValidateIf((_object: object, value: unknown) => value !== undefined);

const trim = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' ? value.trim() : value;

/**
 * At most TITLE_MAX_BYTES in UTF-8, as stored. Not class-validator's IsByteLength: it measures
 * with encodeURI, which throws on a lone surrogate (a 500 instead of a 400).
 */
const IsTitleByteLength = () =>
  ValidateBy({
    name: 'isTitleByteLength',
    validator: {
      validate: (value: unknown) =>
        typeof value === 'string' && Buffer.byteLength(value) <= TITLE_MAX_BYTES,
      defaultMessage: () => `title must be at most ${TITLE_MAX_BYTES} bytes in UTF-8`,
    },
  });

export class CreateTaskDto {
  @ApiProperty({ minLength: 1, maxLength: TITLE_MAX_LENGTH, example: 'Buy milk' })
  @Transform(trim)
  @IsString()
  @Length(1, TITLE_MAX_LENGTH, {
    message: `title must be 1 to ${TITLE_MAX_LENGTH} characters long after trimming`,
  })
  @IsTitleByteLength()
  title!: string;
}

export class UpdateTaskDto {
  @ApiPropertyOptional({ minLength: 1, maxLength: TITLE_MAX_LENGTH })
  @IsPresent()
  @Transform(trim)
  @IsString()
  @Length(1, TITLE_MAX_LENGTH, {
    message: `title must be 1 to ${TITLE_MAX_LENGTH} characters long after trimming`,
  })
  @IsTitleByteLength()
  title?: string;

  @ApiPropertyOptional()
  @IsPresent()
  @IsBoolean()
  done?: boolean;
}

export class ToggleAllDto {
  @ApiProperty()
  @IsBoolean()
  done!: boolean;
}

export class TaskView {
  @ApiProperty({ example: '665f1c2b9d3e4a0012345678' })
  id!: string;

  @ApiProperty()
  title!: string;

  @ApiProperty()
  done!: boolean;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ format: 'date-time' })
  updatedAt!: string;
}

export class TaskCounts {
  @ApiProperty({ description: 'Tasks not done, over the whole list' })
  active!: number;

  @ApiProperty({ description: 'Tasks done, over the whole list' })
  completed!: number;
}

export class TaskListView {
  @ApiProperty({ type: [TaskView] })
  tasks!: TaskView[];

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'The cursor of the next page, null on the last page',
  })
  nextCursor!: string | null;

  @ApiProperty({ type: TaskCounts })
  counts!: TaskCounts;
}

export class UpdatedCount {
  @ApiProperty()
  updated!: number;
}

export class DeletedCount {
  @ApiProperty()
  deleted!: number;
}

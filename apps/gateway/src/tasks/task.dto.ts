import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsString, Length, ValidateIf } from 'class-validator';

export const TITLE_MAX_LENGTH = 500;
export const TASK_STATUSES = ['all', 'active', 'completed'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

/** Optional, but null is a wrong type (400), not "absent". */
const IsPresent = () => ValidateIf((_object: object, value: unknown) => value !== undefined);

const trim = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' ? value.trim() : value;

export class CreateTaskDto {
  @ApiProperty({ minLength: 1, maxLength: TITLE_MAX_LENGTH, example: 'Buy milk' })
  @Transform(trim)
  @IsString()
  @Length(1, TITLE_MAX_LENGTH, {
    message: `title must be 1 to ${TITLE_MAX_LENGTH} characters long after trimming`,
  })
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

export class ListTasksQuery {
  @ApiPropertyOptional({ enum: TASK_STATUSES, default: 'all' })
  @IsPresent()
  @IsIn(TASK_STATUSES, { message: `status must be one of ${TASK_STATUSES.join(', ')}` })
  status?: TaskStatus;
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

export class TaskListView {
  @ApiProperty({ type: [TaskView] })
  tasks!: TaskView[];
}

export class UpdatedCount {
  @ApiProperty()
  updated!: number;
}

export class DeletedCount {
  @ApiProperty()
  deleted!: number;
}

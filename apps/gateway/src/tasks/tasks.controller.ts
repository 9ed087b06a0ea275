import {
  Body,
  Controller,
  Delete,
  Get,
  Header,
  HttpCode,
  HttpStatus,
  Param,
  Patch,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiQuery,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { CurrentUser } from '../session/current-user.decorator';
import { SessionGuard } from '../session/session.guard';
import type { SessionUser } from '../session/session-user';
import { ApiCsrfToken } from '../auth/csrf';
import { ApiEmptyBody, EmptyBodyDto } from '../common/empty-body.dto';
import { BulkOperation } from '../rate-limit/bulk-operation.decorator';
import { TaskIdPipe } from '../common/object-id.pipe';
import {
  CreateTaskDto,
  DeletedCount,
  TASK_STATUSES,
  TaskListView,
  TaskView,
  ToggleAllDto,
  UpdatedCount,
  UpdateTaskDto,
} from './task.dto';
import { TaskListReader } from './task-list.reader';
import { PAGE_LIMIT_MAX, TaskListQueryPipe, type TaskListQuery } from './task-list.query';
import { TasksService } from './tasks.service';

@ApiTags('tasks')
@ApiUnauthorizedResponse({ description: 'Not logged in' })
@Controller('api/tasks')
@UseGuards(SessionGuard)
export class TasksController {
  // No flash notices for task changes: the page shows them itself (docs/web-ui.md).
  constructor(
    private readonly tasks: TasksService,
    private readonly lists: TaskListReader,
  ) {}

  /** Answers the serialized TaskListView as the cache keeps it (docs/api.md, Pagination). */
  @ApiOperation({ summary: 'One page of the tasks, oldest first, with the totals' })
  @ApiTooManyRequestsResponse({ description: 'Rate limit reached (Retry-After)' })
  @Get()
  @Header('Cache-Control', 'no-store')
  @Header('Content-Type', 'application/json; charset=utf-8')
  @ApiQuery({ name: 'status', required: false, enum: TASK_STATUSES })
  @ApiQuery({
    name: 'limit',
    required: false,
    schema: { type: 'integer', minimum: 1, maximum: PAGE_LIMIT_MAX, default: PAGE_LIMIT_MAX },
  })
  @ApiQuery({
    name: 'cursor',
    required: false,
    type: String,
    description: 'nextCursor of the previous page',
  })
  @ApiOkResponse({ type: TaskListView, description: 'One page, oldest first' })
  @ApiBadRequestResponse()
  list(
    @CurrentUser() user: SessionUser,
    @Query(TaskListQueryPipe) query: TaskListQuery,
  ): Promise<string> {
    return this.lists.page(user.id, query);
  }

  @ApiOperation({ summary: 'Create a task' })
  @ApiTooManyRequestsResponse({ description: 'Rate limit reached (Retry-After)' })
  @Post()
  @HttpCode(HttpStatus.CREATED)
  @ApiCsrfToken()
  @ApiCreatedResponse({ type: TaskView })
  @ApiBadRequestResponse()
  @ApiForbiddenResponse()
  @ApiConflictResponse({ description: 'The account holds TASKS_PER_USER_MAX tasks already' })
  async create(@CurrentUser() user: SessionUser, @Body() body: CreateTaskDto): Promise<TaskView> {
    const task = await this.tasks.create(user.id, body.title);
    return task;
  }

  @ApiOperation({ summary: 'Mark every task done or not done' })
  @ApiTooManyRequestsResponse({ description: 'Bulk or rate limit reached (Retry-After)' })
  @ApiServiceUnavailableResponse({ description: 'Deadline passed part-way; repeat to finish' })
  @Post('toggle-all')
  @BulkOperation()
  @HttpCode(HttpStatus.OK)
  @ApiCsrfToken()
  @ApiOkResponse({ type: UpdatedCount })
  @ApiBadRequestResponse()
  @ApiForbiddenResponse()
  async toggleAll(
    @CurrentUser() user: SessionUser,
    @Body() body: ToggleAllDto,
  ): Promise<UpdatedCount> {
    return { updated: await this.tasks.toggleAll(user.id, body.done) };
  }

  @ApiOperation({ summary: 'Delete every completed task' })
  @ApiBadRequestResponse({ description: 'Fields sent' })
  @ApiTooManyRequestsResponse({ description: 'Bulk or rate limit reached (Retry-After)' })
  @ApiServiceUnavailableResponse({ description: 'Deadline passed part-way; repeat to finish' })
  @Post('clear-completed')
  @BulkOperation()
  @HttpCode(HttpStatus.OK)
  @ApiCsrfToken()
  @ApiEmptyBody()
  @ApiOkResponse({ type: DeletedCount })
  @ApiForbiddenResponse()
  async clearCompleted(
    @CurrentUser() user: SessionUser,
    @Body() _body: EmptyBodyDto,
  ): Promise<DeletedCount> {
    return { deleted: await this.tasks.clearCompleted(user.id) };
  }

  @ApiOperation({ summary: 'One task' })
  @ApiTooManyRequestsResponse({ description: 'Rate limit reached (Retry-After)' })
  @Get(':id')
  @Header('Cache-Control', 'no-store')
  @ApiOkResponse({ type: TaskView })
  @ApiNotFoundResponse({ description: 'No such task of this user' })
  get(@CurrentUser() user: SessionUser, @Param('id', TaskIdPipe) id: string): Promise<TaskView> {
    return this.tasks.get(user.id, id);
  }

  @ApiOperation({ summary: 'Change the title or the state of a task' })
  @ApiConflictResponse({ description: 'The task stayed busy with other writes; retry' })
  @ApiTooManyRequestsResponse({
    description: 'Rate limit reached, or too many unpublished changes of this task (Retry-After)',
  })
  @Patch(':id')
  @ApiCsrfToken()
  @ApiOkResponse({ type: TaskView })
  @ApiBadRequestResponse()
  @ApiForbiddenResponse()
  @ApiNotFoundResponse()
  async update(
    @CurrentUser() user: SessionUser,
    @Param('id', TaskIdPipe) id: string,
    @Body() body: UpdateTaskDto,
  ): Promise<TaskView> {
    return this.tasks.update(user.id, id, body);
  }

  @ApiOperation({ summary: 'Delete a task' })
  @ApiTooManyRequestsResponse({ description: 'Rate limit reached (Retry-After)' })
  @Delete(':id')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiCsrfToken()
  @ApiEmptyBody()
  @ApiNoContentResponse()
  @ApiForbiddenResponse()
  @ApiNotFoundResponse()
  async remove(
    @CurrentUser() user: SessionUser,
    @Param('id', TaskIdPipe) id: string,
    @Body() _body: EmptyBodyDto,
  ): Promise<void> {
    await this.tasks.remove(user.id, id);
  }
}

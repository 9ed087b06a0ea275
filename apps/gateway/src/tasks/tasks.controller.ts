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
  Req,
  UseGuards,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiHeader,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { Request } from 'express';
import { CurrentUser } from '../auth/current-user.decorator';
import { SessionGuard } from '../auth/session.guard';
import type { SessionUser } from '../auth/session-user';
import { EmptyBodyDto } from '../common/empty-body.dto';
import { TaskIdPipe } from '../common/object-id.pipe';
import { FlashService } from '../session/flash.service';
import {
  CreateTaskDto,
  DeletedCount,
  ListTasksQuery,
  TaskListView,
  TaskView,
  ToggleAllDto,
  UpdatedCount,
  UpdateTaskDto,
} from './task.dto';
import { TasksService } from './tasks.service';

const CSRF = { name: 'X-CSRF-Token', required: true } as const;

@ApiTags('tasks')
@ApiUnauthorizedResponse({ description: 'Not logged in' })
@Controller('api/tasks')
@UseGuards(SessionGuard)
export class TasksController {
  constructor(
    private readonly tasks: TasksService,
    private readonly flash: FlashService,
  ) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  @ApiOkResponse({ type: TaskListView, description: 'Oldest first' })
  async list(
    @CurrentUser() user: SessionUser,
    @Query() query: ListTasksQuery,
  ): Promise<TaskListView> {
    return { tasks: await this.tasks.list(user.id, query.status ?? 'all') };
  }

  @Post()
  @HttpCode(HttpStatus.CREATED)
  @ApiHeader(CSRF)
  @ApiCreatedResponse({ type: TaskView })
  @ApiBadRequestResponse()
  @ApiForbiddenResponse()
  async create(
    @Req() req: Request,
    @CurrentUser() user: SessionUser,
    @Body() body: CreateTaskDto,
  ): Promise<TaskView> {
    const task = await this.tasks.create(user.id, body.title);
    await this.flash.push(req.sessionID, 'Task created');
    return task;
  }

  @Post('toggle-all')
  @HttpCode(HttpStatus.OK)
  @ApiHeader(CSRF)
  @ApiOkResponse({ type: UpdatedCount })
  @ApiBadRequestResponse()
  @ApiForbiddenResponse()
  async toggleAll(
    @Req() req: Request,
    @CurrentUser() user: SessionUser,
    @Body() body: ToggleAllDto,
  ): Promise<UpdatedCount> {
    const updated = await this.tasks.toggleAll(user.id, body.done);
    if (updated > 0) {
      const state = body.done ? 'completed' : 'active';
      await this.flash.push(req.sessionID, `${plural(updated, 'task')} marked ${state}`);
    }
    return { updated };
  }

  @Post('clear-completed')
  @HttpCode(HttpStatus.OK)
  @ApiHeader(CSRF)
  @ApiOkResponse({ type: DeletedCount })
  @ApiForbiddenResponse()
  async clearCompleted(
    @Req() req: Request,
    @CurrentUser() user: SessionUser,
    @Body() _body: EmptyBodyDto,
  ): Promise<DeletedCount> {
    const deleted = await this.tasks.clearCompleted(user.id);
    if (deleted > 0) {
      await this.flash.push(req.sessionID, `Cleared ${plural(deleted, 'completed task')}`);
    }
    return { deleted };
  }

  @Get(':id')
  @Header('Cache-Control', 'no-store')
  @ApiOkResponse({ type: TaskView })
  @ApiNotFoundResponse({ description: 'No such task of this user' })
  get(@CurrentUser() user: SessionUser, @Param('id', TaskIdPipe) id: string): Promise<TaskView> {
    return this.tasks.get(user.id, id);
  }

  @Patch(':id')
  @ApiHeader(CSRF)
  @ApiOkResponse({ type: TaskView })
  @ApiBadRequestResponse()
  @ApiForbiddenResponse()
  @ApiNotFoundResponse()
  async update(
    @Req() req: Request,
    @CurrentUser() user: SessionUser,
    @Param('id', TaskIdPipe) id: string,
    @Body() body: UpdateTaskDto,
  ): Promise<TaskView> {
    const task = await this.tasks.update(user.id, id, body);
    await this.flash.push(req.sessionID, 'Task updated');
    return task;
  }

  @Delete(':id')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiHeader(CSRF)
  @ApiNoContentResponse()
  @ApiForbiddenResponse()
  @ApiNotFoundResponse()
  async remove(
    @Req() req: Request,
    @CurrentUser() user: SessionUser,
    @Param('id', TaskIdPipe) id: string,
    @Body() _body: EmptyBodyDto,
  ): Promise<void> {
    await this.tasks.remove(user.id, id);
    await this.flash.push(req.sessionID, 'Task deleted');
  }
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

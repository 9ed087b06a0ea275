import { ConflictException, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { normaliseEmail } from './email';
import { User } from './user.schema';

export interface StoredUser {
  id: string;
  email: string;
  passwordHash: string;
}

function isDuplicateKey(error: unknown): boolean {
  return (
    typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 11000
  );
}

@Injectable()
export class UsersService implements OnModuleInit {
  private readonly logger = new Logger(UsersService.name);

  constructor(@InjectModel(User.name) private readonly users: Model<User>) {}

  /** Builds the unique email index before the first request (non-fatal if MongoDB is away). */
  async onModuleInit(): Promise<void> {
    try {
      await this.users.init();
    } catch (error) {
      this.logger.warn(`users indexes not ensured yet: ${(error as Error).message}`);
    }
  }

  /** Creates an account; 409 when the (normalised) email is taken. */
  async create(email: string, passwordHash: string): Promise<StoredUser> {
    const normalised = normaliseEmail(email);
    try {
      const created = await this.users.create({ email: normalised, passwordHash });
      return { id: created._id.toHexString(), email: created.email, passwordHash };
    } catch (error) {
      if (isDuplicateKey(error)) throw new ConflictException('Email is already registered');
      throw error;
    }
  }

  async findById(id: string): Promise<StoredUser | undefined> {
    const found = await this.users.findById(id).lean().exec();
    if (!found) return undefined;
    return { id: String(found._id), email: found.email, passwordHash: found.passwordHash };
  }

  async setPasswordHash(id: string, passwordHash: string): Promise<void> {
    await this.users.updateOne({ _id: { $eq: id } }, { $set: { passwordHash } }).exec();
  }

  async findByEmail(email: string): Promise<StoredUser | undefined> {
    const found = await this.users
      .findOne({ email: { $eq: normaliseEmail(email) } })
      .lean()
      .exec();
    if (!found) return undefined;
    return { id: String(found._id), email: found.email, passwordHash: found.passwordHash };
  }
}

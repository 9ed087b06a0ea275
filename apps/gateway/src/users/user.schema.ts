import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import type { HydratedDocument } from 'mongoose';

export const USERS_COLLECTION = 'users';

/**
 * An account. `email` is stored normalised (trimmed, lower case): FerretDB has no collation,
 * so case-insensitive uniqueness comes from normalising before every write and look-up.
 */
@Schema({ collection: USERS_COLLECTION, timestamps: true, strict: true, versionKey: false })
export class User {
  @Prop({ required: true, unique: true })
  email!: string;

  /** argon2id PHC string. */
  @Prop({ required: true })
  passwordHash!: string;

  createdAt!: Date;
  updatedAt!: Date;
}

export type UserDocument = HydratedDocument<User>;
export const UserSchema = SchemaFactory.createForClass(User);

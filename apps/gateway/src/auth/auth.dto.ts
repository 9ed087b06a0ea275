import { ApiProperty } from '@nestjs/swagger';
import { IsEmail, IsString, Length, MaxLength } from 'class-validator';
import { IsUncommonPassword, PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from './password-policy';

const NEW_PASSWORD_LENGTH = `must be ${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters long`;

export class RegisterDto {
  @ApiProperty({ example: 'ada@example.com', maxLength: 254 })
  @IsString()
  @MaxLength(254)
  @IsEmail({}, { message: 'email must be an email address' })
  email!: string;

  @ApiProperty({
    minLength: PASSWORD_MIN_LENGTH,
    maxLength: PASSWORD_MAX_LENGTH,
    description: 'Not a common or breached password, nor one built from the email',
  })
  @IsString()
  @Length(PASSWORD_MIN_LENGTH, PASSWORD_MAX_LENGTH, {
    message: `password ${NEW_PASSWORD_LENGTH}`,
  })
  @IsUncommonPassword()
  password!: string;
}

export class LoginDto {
  @ApiProperty({ example: 'ada@example.com', maxLength: 254 })
  @IsString()
  @MaxLength(254)
  @IsEmail({}, { message: 'email must be an email address' })
  email!: string;

  @ApiProperty({ maxLength: 128 })
  @IsString()
  @Length(1, 128, { message: 'password must be 1 to 128 characters long' })
  password!: string;
}

export class ChangePasswordDto {
  @ApiProperty({ maxLength: PASSWORD_MAX_LENGTH })
  @IsString()
  @Length(1, PASSWORD_MAX_LENGTH, {
    message: `currentPassword must be 1 to ${PASSWORD_MAX_LENGTH} characters long`,
  })
  currentPassword!: string;

  @ApiProperty({ minLength: PASSWORD_MIN_LENGTH, maxLength: PASSWORD_MAX_LENGTH })
  @IsString()
  @Length(PASSWORD_MIN_LENGTH, PASSWORD_MAX_LENGTH, {
    message: `newPassword ${NEW_PASSWORD_LENGTH}`,
  })
  @IsUncommonPassword()
  newPassword!: string;
}

export class UserView {
  @ApiProperty({ example: '665f1c2b9d3e4a0012345678' })
  id!: string;

  @ApiProperty({ example: 'ada@example.com' })
  email!: string;
}

export class AuthResponse {
  @ApiProperty({ type: UserView })
  user!: UserView;

  @ApiProperty({ description: 'Send it as X-CSRF-Token on every state-changing request' })
  csrfToken!: string;
}

export class MeResponse extends AuthResponse {
  @ApiProperty({
    type: [String],
    description: 'One-shot flash notices, consumed by this read',
  })
  notices!: string[];
}

export class NoticesResponse {
  @ApiProperty({ type: [String] })
  notices!: string[];
}

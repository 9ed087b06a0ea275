import { ApiProperty } from '@nestjs/swagger';
import { IsEmail, IsString, Length, MaxLength } from 'class-validator';

export class RegisterDto {
  @ApiProperty({ example: 'ada@example.com', maxLength: 254 })
  @IsString()
  @MaxLength(254)
  @IsEmail({}, { message: 'email must be an email address' })
  email!: string;

  @ApiProperty({ minLength: 8, maxLength: 128 })
  @IsString()
  @Length(8, 128, { message: 'password must be 8 to 128 characters long' })
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
    description: 'One-shot flash notices, consumed by this read (extension of the contract)',
  })
  notices!: string[];
}

export class NoticesResponse {
  @ApiProperty({ type: [String] })
  notices!: string[];
}

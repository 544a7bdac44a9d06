import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsEmail,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  MinLength,
} from 'class-validator';

import { SITE_ID_PATTERN, USERNAME_PATTERN } from '../config/app-config.js';

export const PASSWORD_MIN_LENGTH = 12;

export class UserCreateDto {
  @ApiProperty({ example: 'alice', pattern: USERNAME_PATTERN.source })
  @Matches(USERNAME_PATTERN, {
    message: 'username must be 2-64 letters, digits or ._@- and start with a letter or digit',
  })
  username!: string;

  @ApiProperty({ minLength: PASSWORD_MIN_LENGTH, format: 'password' })
  @IsString()
  @MinLength(PASSWORD_MIN_LENGTH, { message: `password must be at least ${PASSWORD_MIN_LENGTH} characters` })
  @MaxLength(256)
  password!: string;

  @ApiPropertyOptional({ format: 'email' })
  @IsOptional()
  @IsEmail({}, { message: 'email must be an email address' })
  email?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(200)
  full_name?: string;

  @ApiPropertyOptional({ default: false, description: 'Admins hold every allowance and manage users' })
  @IsOptional()
  @IsBoolean()
  is_admin?: boolean;

  @ApiPropertyOptional({ type: [String], description: 'Ids of the sites this user administers' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  @Matches(SITE_ID_PATTERN, { each: true, message: 'each site_admin entry must be a site id' })
  site_admin?: string[];

  @ApiPropertyOptional({ default: false })
  @IsOptional()
  @IsBoolean()
  disabled?: boolean;
}

/** Only the fields sent change. */
export class UserUpdateDto {
  @ApiPropertyOptional({ minLength: PASSWORD_MIN_LENGTH, format: 'password' })
  @IsOptional()
  @IsString()
  @MinLength(PASSWORD_MIN_LENGTH, { message: `password must be at least ${PASSWORD_MIN_LENGTH} characters` })
  @MaxLength(256)
  password?: string;

  @ApiPropertyOptional({ format: 'email' })
  @IsOptional()
  @IsEmail({}, { message: 'email must be an email address' })
  email?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(200)
  full_name?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean()
  is_admin?: boolean;

  @ApiPropertyOptional({ type: [String] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  @Matches(SITE_ID_PATTERN, { each: true, message: 'each site_admin entry must be a site id' })
  site_admin?: string[];

  @ApiPropertyOptional({ description: 'A disabled user gets no token, and the tokens it has stop working' })
  @IsOptional()
  @IsBoolean()
  disabled?: boolean;
}

export class UserDto {
  @ApiProperty()
  username!: string;

  @ApiPropertyOptional()
  email?: string;

  @ApiPropertyOptional()
  full_name?: string;

  @ApiProperty()
  is_admin!: boolean;

  @ApiProperty({ type: [String] })
  site_admin!: string[];

  @ApiProperty()
  disabled!: boolean;

  @ApiProperty({ format: 'date-time' })
  created_at!: string;

  @ApiProperty({ format: 'date-time' })
  updated_at!: string;
}

export class UserPageDto {
  @ApiProperty({ type: [UserDto] })
  resources!: UserDto[];

  @ApiPropertyOptional()
  next_page_token?: string;
}

/** What a site client sees at GET /users/me. */
export class SiteClientIdentityDto {
  @ApiProperty({ description: 'The site client id' })
  client_id!: string;

  @ApiProperty()
  site_id!: string;
}

import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, Matches } from 'class-validator';

import { USERNAME_PATTERN } from '../config/app-config.js';
import { ALLOWANCE_ACTIONS, type AllowanceAction } from './principal.js';

const ACTION_MESSAGE = `action must be one of ${ALLOWANCE_ACTIONS.join(', ')}`;

export class AllowanceDto {
  @ApiProperty({ example: 'alice' })
  @Matches(USERNAME_PATTERN, { message: 'username must be a username' })
  username!: string;

  @ApiProperty({ enum: ALLOWANCE_ACTIONS })
  @IsIn(ALLOWANCE_ACTIONS, { message: ACTION_MESSAGE })
  action!: AllowanceAction;
}

export class AllowanceFilterDto {
  @ApiPropertyOptional()
  @IsOptional()
  @Matches(USERNAME_PATTERN, { message: 'username must be a username' })
  username?: string;

  @ApiPropertyOptional({ enum: ALLOWANCE_ACTIONS })
  @IsOptional()
  @IsIn(ALLOWANCE_ACTIONS, { message: ACTION_MESSAGE })
  action?: AllowanceAction;
}

export class AllowanceRecordDto extends AllowanceDto {
  @ApiProperty({ description: 'Who granted it' })
  created_by!: string;

  @ApiProperty({ format: 'date-time' })
  created_at!: string;
}

export class AllowanceListDto {
  @ApiProperty({ type: [AllowanceRecordDto] })
  resources!: AllowanceRecordDto[];
}

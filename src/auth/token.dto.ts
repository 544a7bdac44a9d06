import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';

export class TokenRequestDto {
  @ApiProperty({ enum: ['password', 'client_credentials'] })
  @IsIn(['password', 'client_credentials'], { message: 'grant_type must be password or client_credentials' })
  grant_type!: 'password' | 'client_credentials';

  @ApiPropertyOptional({ description: 'For grant_type=password' })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  username?: string;

  @ApiPropertyOptional({ description: 'For grant_type=password', format: 'password' })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  password?: string;

  @ApiPropertyOptional({ description: 'For grant_type=client_credentials (or send HTTP Basic)' })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  client_id?: string;

  @ApiPropertyOptional({
    description: 'For grant_type=client_credentials (or send HTTP Basic)',
    format: 'password',
  })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  client_secret?: string;

  @ApiPropertyOptional({ description: 'Accepted for OAuth2 compatibility and ignored' })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  scope?: string;
}

export class TokenLifetimeDto {
  @ApiProperty()
  days!: number;

  @ApiProperty()
  hours!: number;

  @ApiProperty()
  minutes!: number;
}

export class TokenResponseDto {
  @ApiProperty({ description: 'A JWT to send as `Authorization: Bearer <token>`' })
  access_token!: string;

  @ApiProperty({ enum: ['bearer'] })
  token_type!: 'bearer';

  @ApiProperty({ description: 'Seconds until the token expires' })
  expires_in!: number;

  @ApiProperty({
    type: TokenLifetimeDto,
    description: 'The same lifetime, split as NMDC runtime clients expect',
  })
  expires!: TokenLifetimeDto;
}

import { Body, Controller, Get, Module, Post } from '@nestjs/common';
import { Type } from 'class-transformer';
import { IsArray, IsInt, IsOptional, IsString, Min, MinLength, ValidateNested } from 'class-validator';

import { ConflictError } from '../../src/common/errors/domain-errors.js';
import { ApiExcludeController } from '@nestjs/swagger';

import { Public } from '../../src/common/http/public.decorator.js';

class ProbeItem {
  @IsString()
  id!: string;
}

export class ProbeBody {
  @IsString()
  @MinLength(3)
  name!: string;

  @IsInt()
  @Min(1)
  count!: number;

  @IsOptional()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => ProbeItem)
  items?: ProbeItem[];
}

/** Routes that exist only in tests, to exercise the global pipe, filter and body limits. */
@ApiExcludeController()
@Public()
@Controller()
class ProbeController {
  @Post('probe/echo')
  echo(@Body() body: ProbeBody): ProbeBody {
    return body;
  }

  @Get('probe/boom')
  boom(): never {
    throw new Error('database password is hunter2 (an internal detail)');
  }

  @Get('ga4gh/drs/v1/probe/boom')
  drsBoom(): never {
    throw new Error('an internal detail');
  }

  @Get('probe/conflict')
  conflict(): never {
    throw new ConflictError('The thing already exists', { extra: { existing_id: 'abc' } });
  }
}

@Module({ controllers: [ProbeController] })
export class ProbeModule {}

import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';

/** The `filter` of a list that answers in one piece (small registries), without paging. */
export class FilterQueryDto {
  @ApiPropertyOptional({
    description:
      'A JSON MongoDB query over the documented fields. Operators allowed: $eq $ne $gt $gte $lt $lte $in $nin $exists $regex (with $options) $and $or.',
    example: '{"id": {"$regex": "^metadata"}}',
  })
  @IsOptional()
  @IsString()
  @MaxLength(20_000)
  filter?: string;
}

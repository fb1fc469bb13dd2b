import { Controller, Get, Param, Query, Res, StreamableFile } from '@nestjs/common';
import {
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiProduces,
  ApiTags,
  ApiUnauthorizedResponse,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { AdminOnly, Auth, type Authenticated } from '../auth/auth.decorators.js';
import { DATASET_NAMES } from './datasets.js';
import { ExportHistoryPageDto, ExportHistoryQueryDto, ExportQueryDto } from './exports.dto.js';
import { EXPORT_FORBIDDEN, ExportsService } from './exports.service.js';
import { CONTENT_TYPES } from './formats.js';

@ApiTags('exports')
@Controller('api/v1/exports')
export class ExportsController {
  constructor(private readonly exports: ExportsService) {}

  @Get('history')
  @AdminOnly(EXPORT_FORBIDDEN)
  @ApiOperation({ summary: 'Past exports (admin): dataset, format, filters, rows sent, status and who asked, newest first.' })
  @ApiOkResponse({ type: ExportHistoryPageDto })
  @ApiUnauthorizedResponse({ description: 'No bearer token (an API key alone is not enough).' })
  @ApiForbiddenResponse({ description: EXPORT_FORBIDDEN })
  history(@Auth() { auth }: Authenticated, @Query() query: ExportHistoryQueryDto) {
    return this.exports.history(auth, query);
  }

  @Get(':dataset')
  @AdminOnly(EXPORT_FORBIDDEN)
  @ApiOperation({
    summary: 'Download a dataset (admin) as CSV, JSON or XLSX, streamed.',
    description: [
      'Rows in creation order (oldest first), at most `limit`. Streamed from a database cursor with constant memory;',
      '`Content-Disposition: attachment; filename="{dataset}_{YYYYMMDDTHHMMSSZ}.{ext}"`; `X-Export-Id` names the',
      'history entry. CSV: RFC 4180 with a header row, CRLF line ends; text cells starting with `=`, `+`, `-`, `@`,',
      'tab or CR are prefixed with `\'` (formula injection). JSON: one array of objects. XLSX: one sheet with a header',
      'row (XML turns a CRLF inside a text into LF). Timestamps are ISO 8601 UTC; JSON values (`data`) are JSON text',
      'in CSV and XLSX. Admin-only; an API key alone is 401. If the export fails',
      'after the first byte, the response is cut off (no terminating chunk) and the history says `failed`.',
    ].join('\n'),
  })
  @ApiParam({ name: 'dataset', enum: DATASET_NAMES })
  @ApiProduces(...Object.values(CONTENT_TYPES))
  @ApiOkResponse({ description: 'The file.', schema: { type: 'string', format: 'binary' } })
  @ApiUnauthorizedResponse({ description: 'No bearer token (an API key alone is not enough).' })
  @ApiForbiddenResponse({ description: EXPORT_FORBIDDEN })
  @ApiNotFoundResponse({ description: 'Unknown dataset.' })
  @ApiUnprocessableEntityResponse({ description: 'Bad format, date or limit (1-100000).' })
  async download(
    @Auth() { auth }: Authenticated,
    @Param('dataset') dataset: string,
    @Query() query: ExportQueryDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<StreamableFile> {
    const download = await this.exports.start(auth, dataset, query);
    reply.header('X-Export-Id', download.id).header('Cache-Control', 'no-store');
    return new StreamableFile(download.stream, { type: download.contentType, disposition: `attachment; filename="${download.filename}"` });
  }
}

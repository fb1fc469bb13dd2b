import { Injectable } from '@nestjs/common';

/**
 * How many awards this instance has written, exported as `points_awarded_total`. The award path increments it after
 * its transaction commits (replays and simulations write nothing and are not counted), so scraping never touches
 * the database.
 */
@Injectable()
export class PointsMetrics {
  awards = 0;

  awarded(count = 1): void {
    this.awards += count;
  }
}

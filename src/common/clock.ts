import { Global, Injectable, Module } from '@nestjs/common';

/**
 * The time source of everything that scores or stamps awards. Tests replace `now` on the app's instance
 * (`app.get(Clock).now = () => …`) to replay a timeline.
 */
@Injectable()
export class Clock {
  now(): Date {
    return new Date();
  }
}

@Global()
@Module({ providers: [Clock], exports: [Clock] })
export class ClockModule {}

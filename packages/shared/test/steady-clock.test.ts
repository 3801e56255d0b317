// Ages are read from a clock that follows the wall clock forward and never runs back with it.
import { steadyClock } from '../src';

it('follows its source forward, and goes on at its pace from where it was after a step back', () => {
  let wall = 1_000;
  const clock = steadyClock(() => wall);
  expect(clock()).toBe(1_000);
  wall = 1_500;
  expect(clock()).toBe(1_500);
  // Set back by an hour: it stays where it was...
  wall -= 3_600_000;
  expect(clock()).toBe(1_500);
  // ...and moves on as the source does.
  wall += 200;
  expect(clock()).toBe(1_700);
  wall += 3_600_000;
  expect(clock()).toBe(3_601_700);
});

<?php

declare(strict_types=1);

namespace Opsync\Openprovider;

/** Retries of transient failures: attempts per call (the first included), bounded in time. */
final class RetryPolicy
{
    public function __construct(
        public readonly int $attempts = 4,
        public readonly float $firstDelaySeconds = 0.5,
        public readonly float $maxDelaySeconds = 8.0,
        public readonly float $maxElapsedSeconds = 60.0,
    ) {
    }
}

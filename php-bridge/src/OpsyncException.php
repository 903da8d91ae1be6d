<?php

declare(strict_types=1);

namespace Opsync;

/** Anything opsync's PHP face throws. */
class OpsyncException extends \RuntimeException
{
}

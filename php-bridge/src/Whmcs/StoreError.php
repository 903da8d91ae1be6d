<?php

declare(strict_types=1);

namespace Opsync\Whmcs;

use Opsync\OpsyncException;

/** The WHMCS database could not do what the run needed; the message says what. */
final class StoreError extends OpsyncException
{
}

<?php

declare(strict_types=1);

namespace Opsync\Whmcs;

use Opsync\OpsyncException;

/** Another run, of either host, holds the lock: this run did nothing. */
final class Locked extends OpsyncException
{
}

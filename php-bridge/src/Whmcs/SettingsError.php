<?php

declare(strict_types=1);

namespace Opsync\Whmcs;

use Opsync\OpsyncException;

/** A setting opsync cannot use; the message names it and where it is set. */
final class SettingsError extends OpsyncException
{
}

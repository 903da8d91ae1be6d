<?php

declare(strict_types=1);

namespace Opsync;

/** The engine refused the request; the message names the JSON path (`whmcs[3].id: ...`). */
final class InvalidRequest extends OpsyncException
{
}

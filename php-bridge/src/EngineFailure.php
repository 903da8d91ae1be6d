<?php

declare(strict_types=1);

namespace Opsync;

/** The engine could not answer (a trap, fuel or memory exhausted); nothing was decided. */
final class EngineFailure extends OpsyncException
{
}

<?php

declare(strict_types=1);

namespace Opsync;

/** Neither the FFI library nor the `opsync` command could be used. */
final class EngineUnavailable extends OpsyncException
{
}

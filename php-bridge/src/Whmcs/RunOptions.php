<?php

declare(strict_types=1);

namespace Opsync\Whmcs;

/** How a run goes. */
final class RunOptions
{
    /**
     * @param bool $dryRun read and decide, write nothing (the report says what would change)
     * @param ?int $batch only the next N rows (overrides the settings' batch size)
     * @param bool $all every row, whatever the settings' batch size
     * @param bool $mail mail the report to the admins with System emails when it is worth sending
     * @param bool $record add the run to the run history
     * @param bool $allowMassChange release the mass-change brake for this run only
     */
    public function __construct(
        public readonly bool $dryRun = false,
        public readonly ?int $batch = null,
        public readonly bool $all = false,
        public readonly bool $mail = true,
        public readonly bool $record = true,
        public readonly bool $allowMassChange = false,
    ) {
    }
}

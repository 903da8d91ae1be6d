<?php

declare(strict_types=1);

namespace Opsync\Whmcs;

/** What a completed run did. */
final class RunOutcome
{
    /**
     * @param array<string, mixed> $response the engine's answer
     * @param list<array{whmcs_id: int, domain: string, side: string, message: string}> $failures
     * @param array{send: bool, subject: string, text: string, html: string} $report
     * @param ?string $mailError why WHMCS did not take the report mail, when it did not
     * @param list<array{step: string, seconds: float}> $steps each step's time, in order
     */
    public function __construct(
        public readonly array $response,
        public readonly array $failures,
        public readonly array $report,
        public readonly bool $listingComplete,
        public readonly bool $mailed,
        public readonly ?string $mailError,
        public readonly array $steps = [],
    ) {
    }

    /** The exit status of the run, as `opsync sync` gives it: 5 mail failed, 8 held, 0 done. */
    public function exitStatus(): int
    {
        if ($this->mailError !== null) {
            return Cli::EXIT_NOT_COMPLETED;
        }
        return ($this->response['summary']['held'] ?? false) ? Cli::EXIT_HELD : Cli::EXIT_OK;
    }
}

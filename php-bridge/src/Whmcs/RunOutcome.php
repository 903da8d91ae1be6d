<?php

declare(strict_types=1);

namespace Opsync\Whmcs;

/**
 * What a run came to: the engine's outcome (exit status, mode, lines, summary, failures,
 * report, mail), read. Every word of it is the engine's.
 */
final class RunOutcome
{
    /** @param array<string, mixed> $outcome the engine's outcome */
    public function __construct(public readonly array $outcome)
    {
    }

    /** 0 done, 4 another run holds the lock, 5 it could not complete, 8 the brake held it. */
    public function exitStatus(): int
    {
        return (int) $this->outcome['exit_status'];
    }

    /** @return ?array{send: bool, subject: string, text: string, html: string} */
    public function report(): ?array
    {
        return $this->outcome['report'] ?? null;
    }

    /** @return ?array<string, mixed> */
    public function summary(): ?array
    {
        return $this->outcome['summary'] ?? null;
    }

    public function held(): bool
    {
        return (bool) ($this->outcome['summary']['held'] ?? false);
    }

    public function mailed(): bool
    {
        return ($this->outcome['mail'] ?? '') === 'sent';
    }

    /** @return list<string> what the run has to say to whoever ran it */
    public function lines(): array
    {
        return $this->outcome['lines'] ?? [];
    }

    /** @return list<array{whmcs_id: int, domain: string, side: string, message: string}> */
    public function failures(): array
    {
        return $this->outcome['failures'] ?? [];
    }
}

<?php

declare(strict_types=1);

namespace Opsync\Whmcs;

use Opsync\Engine;

/**
 * WHMCS's own domain sync asks a registrar module about one domain at a time
 * (`openprovider_Sync`, `openprovider_TransferSync`). These answer it with a run of the
 * engine in mode `registrar_sync` / `transfer_sync`: the row read, its name looked up,
 * the engine's decision put in WHMCS's terms by the engine (`engine/src/run/outcome.rs`).
 * Nothing is written by the run; WHMCS writes what these return.
 *
 * What WHMCS does with each answer (its domain sync task): `active`/`expired` set the
 * status; `expirydate` sets the expiry and, with WHMCS's "Sync Next Due Date" on, moves the
 * due date by WHMCS's own rule; `failed` from a transfer sync makes WHMCS set the domain
 * Cancelled and mail the client "Domain Transfer Failed" (the engine returns it only when
 * Openprovider says the transfer request failed, status FAI); `error` is shown beside the
 * domain. opsync never answers `cancelled` or `transferredAway`.
 */
final class RegistrarSync
{
    /**
     * @param array<string, mixed> $params WHMCS's (`domainid` used)
     * @return array<string, mixed>
     */
    public static function sync(array $params, ?Host $host = null, ?Engine $engine = null): array
    {
        return self::answer('registrar_sync', $params, $host, $engine) ?? [];
    }

    /**
     * Null for a domain under an extension the Openprovider module renews once its
     * transfer completes (the module's `renewTldsUponTransferCompletion`): the module's
     * own `openprovider_TransferSync` answers it, and renews it.
     *
     * @param array<string, mixed> $params
     * @return ?array<string, mixed>
     */
    public static function transferSync(array $params, ?Host $host = null, ?Engine $engine = null): ?array
    {
        return self::answer('transfer_sync', $params, $host, $engine);
    }

    /**
     * @param array<string, mixed> $params
     * @return ?array<string, mixed>
     */
    private static function answer(string $mode, array $params, ?Host $host, ?Engine $engine): ?array
    {
        try {
            $host ??= new WhmcsHost();
            $engine ??= new Engine();
            $settings = Settings::read($host, new Store($host->pdo(), $host), $engine, getenv());
            $runner = new Runner($host, $engine, $settings);
            $outcome = $runner->run($runner->start($mode, ['domain_id' => (int) ($params['domainid'] ?? 0)]));
            if (($outcome['mode'] ?? '') === 'left_to_module') {
                return null;
            }
            return \is_array($outcome['answer'] ?? null) ? $outcome['answer'] : [];
        } catch (\Throwable $e) {
            // WHMCS shows an error answer beside the domain; nothing is thrown at it.
            return ['error' => 'opsync: ' . Addon::line($e)];
        }
    }
}

<?php

declare(strict_types=1);

namespace Opsync\Whmcs;

/**
 * The one seam between opsync and WHMCS: everything the drop-in needs from WHMCS itself.
 * `WhmcsHost` is the production implementation and the only code that calls WHMCS;
 * everything else is plain PHP on the PDO this hands out.
 */
interface Host
{
    /** WHMCS's own database connection (Capsule's PDO). */
    public function pdo(): \PDO;

    /**
     * The Openprovider registrar module's settings, decrypted: `Username`, `Password`,
     * `test_mode` (`'on'` or `''`), as WHMCS's getRegistrarConfigOptions gives them.
     *
     * @return array<string, mixed>
     */
    public function registrarSettings(): array;

    /** One line in WHMCS's activity log, for a client (`logActivity`). */
    public function activity(string $line, int $clientId): void;

    /**
     * One API call in WHMCS's module log (`logModuleCall`), recorded only while the Module
     * Log is on; every string of `$secrets` is masked out of what is stored.
     *
     * @param list<string> $secrets
     */
    public function moduleLog(string $action, string $request, string $response, array $secrets): void;

    /**
     * Mails the admins whose role receives system emails (WHMCS's SendAdminEmail API
     * with `type => 'system'`). Returns null when WHMCS accepted it, else why not.
     */
    public function mailAdmins(string $subject, string $html): ?string;

    /** Registers a hook (`add_hook`). */
    public function hook(string $name, int $priority, callable $fn): void;

    /** The WHMCS root folder (`ROOTDIR`). */
    public function rootDir(): string;

    /** The admin area's folder under the System URL (`$customadminpath`, default `admin`). */
    public function adminFolder(): string;

    /**
     * WHMCS's CSRF check of an admin POST (`check_token('WHMCS.admin.default')`): it stops
     * the request when the form's token is wrong, so returning means it was right.
     */
    public function checkToken(): void;
}

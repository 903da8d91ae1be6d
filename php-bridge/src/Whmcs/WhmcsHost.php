<?php

declare(strict_types=1);

namespace Opsync\Whmcs;

/**
 * The production `Host`: the only code of opsync that calls WHMCS, and only these of its
 * functions: `Capsule::connection()->getPdo()`, `getRegistrarConfigOptions`,
 * `logActivity`, `logModuleCall`, `localAPI('SendAdminEmail')` and `add_hook`.
 */
final class WhmcsHost implements Host
{
    private const MODULE = 'opsync';

    public function __construct()
    {
        if (!\defined('WHMCS') || !\defined('ROOTDIR')) {
            throw new \RuntimeException('opsync runs inside WHMCS: load its init.php first');
        }
    }

    public function pdo(): \PDO
    {
        return \WHMCS\Database\Capsule::connection()->getPdo();
    }

    public function registrarSettings(): array
    {
        if (!\function_exists('getRegistrarConfigOptions')) {
            require_once ROOTDIR . '/includes/registrarfunctions.php';
        }
        $settings = getRegistrarConfigOptions('openprovider');
        return \is_array($settings) ? $settings : [];
    }

    public function activity(string $line, int $clientId): void
    {
        logActivity($line, $clientId);
    }

    public function moduleLog(string $action, string $request, string $response, array $secrets): void
    {
        try {
            logModuleCall(self::MODULE, $action, $request, $response, '', $secrets);
        } catch (\Throwable) {
            // The module log is for debugging: a full or failing log never stops a sync.
        }
    }

    public function mailAdmins(string $subject, string $html): ?string
    {
        $answer = localAPI('SendAdminEmail', [
            'customsubject' => $subject,
            'custommessage' => $html,
            'type' => 'system',
        ]);
        if (($answer['result'] ?? '') === 'success') {
            return null;
        }
        return (string) ($answer['message'] ?? 'WHMCS did not say why');
    }

    public function hook(string $name, int $priority, callable $fn): void
    {
        add_hook($name, $priority, $fn);
    }

    public function rootDir(): string
    {
        return (string) ROOTDIR;
    }

    public function adminFolder(): string
    {
        // WHMCS 8 reads configuration.php's $customadminpath inside its application object
        // and offers it as \App::get_admin_folder_name(); older code set a global.
        $path = null;
        if (\is_callable(['\\App', 'get_admin_folder_name'])) {
            try {
                $path = \App::get_admin_folder_name();
            } catch (\Throwable) {
                $path = null;
            }
        }
        $path ??= $GLOBALS['customadminpath'] ?? null;
        return \is_string($path) && trim($path, '/ ') !== '' ? trim($path, '/ ') : 'admin';
    }

    public function checkToken(): void
    {
        if (!\function_exists('check_token')) {
            // Outside WHMCS's admin area nothing could have set a token: refuse the POST.
            throw new \RuntimeException("WHMCS's CSRF check (check_token) is not available here: nothing was done");
        }
        check_token('WHMCS.admin.default');
    }
}

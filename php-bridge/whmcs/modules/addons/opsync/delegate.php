<?php

/**
 * What a delegating Openprovider module calls. WHMCS's own domain sync asks the module's
 * `openprovider_Sync` / `openprovider_TransferSync` about one domain; one line pasted as the
 * first line of each function's body (INSTALL.md, "WHMCS's own domain sync") hands the
 * question to opsync:
 *
 *     if (is_file(ROOTDIR . '/modules/addons/opsync/delegate.php')) { require_once ROOTDIR . '/modules/addons/opsync/delegate.php'; if (is_array($opsync = opsync_answer(__FUNCTION__, func_get_arg(0)))) { return $opsync; } }
 *
 * The same line fits both functions (`__FUNCTION__` says which one asks, `func_get_arg(0)`
 * takes WHMCS's parameters whatever the module names them). Nothing here declares a
 * function of the module, so nothing can be declared twice, and this file may be loaded
 * any number of times. Each helper returns WHMCS's answer, or null for "let the module
 * answer": on a PHP older than opsync needs, for a function opsync does not answer, and for
 * a transfer of an extension the module renews once the transfer completes (its
 * `renewTldsUponTransferCompletion`). With the addon's folder gone, the line does nothing.
 * PHP 7.2 syntax only.
 */

if (!function_exists('opsync_answer')) {
    /**
     * @param string $function the module function asking (`__FUNCTION__`)
     * @param array<string, mixed> $params WHMCS's
     * @return ?array<string, mixed>
     */
    function opsync_answer($function, $params)
    {
        switch ($function) {
            case 'openprovider_Sync':
                return opsync_registrar_sync($params);
            case 'openprovider_TransferSync':
                return opsync_registrar_transfer_sync($params);
            default:
                return null;
        }
    }
}

if (!function_exists('opsync_registrar_sync')) {
    /**
     * @param array<string, mixed> $params WHMCS's (`domainid` used)
     * @return ?array<string, mixed>
     */
    function opsync_registrar_sync($params)
    {
        if (PHP_VERSION_ID < 80100) {
            return null;
        }
        require_once __DIR__ . '/src/autoload.php';
        return \Opsync\Whmcs\RegistrarSync::sync((array) $params);
    }
}

if (!function_exists('opsync_registrar_transfer_sync')) {
    /**
     * @param array<string, mixed> $params
     * @return ?array<string, mixed>
     */
    function opsync_registrar_transfer_sync($params)
    {
        if (PHP_VERSION_ID < 80100) {
            return null;
        }
        require_once __DIR__ . '/src/autoload.php';
        return \Opsync\Whmcs\RegistrarSync::transferSync((array) $params);
    }
}

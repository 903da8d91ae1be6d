<?php

/**
 * What a delegating Openprovider module calls: WHMCS's own domain sync asks the module's
 * `openprovider_Sync` / `openprovider_TransferSync` about one domain, and one line pasted at
 * the top of each (INSTALL.md, "WHMCS's own domain sync") hands the question to opsync.
 * Nothing here declares a function of the module, so nothing can be declared twice. Each
 * returns WHMCS's answer, or null for "not opsync's: let the module answer" (a PHP older
 * than opsync needs). PHP 7.2 syntax only.
 */

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

<?php

/**
 * STAND-IN for the Openprovider registrar module's main file (module 5.13,
 * `modules/registrars/openprovider/openprovider.php`), for the tests of the delegation in
 * INSTALL.md. It keeps the real file's two function signatures WHMCS's domain sync calls,
 * `openprovider_TransferSync($params)` and `openprovider_Sync($paramsArray)`, and its habit
 * of handing every call to one dispatcher. The dispatcher here does not ask Openprovider: it
 * answers with a marker naming itself, so a test sees whether the module or opsync answered.
 */

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

function openprovider_registrar_launch_decorator($route, $params = [])
{
    return ['error' => "stand-in module: $route"];
}

/**
 * Domain transfer sync.
 *
 * @param $params
 * @return array
 */
function openprovider_TransferSync($params)
{
    return openprovider_registrar_launch_decorator('transferSync', $params);
}

/**
 * Domain synchronisation.
 *
 * @param $paramsArray
 * @return array
 */
function openprovider_Sync($paramsArray)
{
    return openprovider_registrar_launch_decorator('domainSync', $paramsArray);
}

#include <stdio.h>
int main(void){puts("hanko-offline");return 0;}
